union Contact {
  1: required string email
  2: string phone
}
