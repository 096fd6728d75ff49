const i32 MAX_RETRIES = "three"
