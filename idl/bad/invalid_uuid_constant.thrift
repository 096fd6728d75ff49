const uuid SYSTEM_USER = "not-a-uuid"
