struct User {
  1: uuid id
}

const uuid SYSTEM_USER = "not-a-uuid"
