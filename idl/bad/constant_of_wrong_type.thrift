namespace rs accounts

const string NAME = "accounts"
const i32 PORT = NAME
