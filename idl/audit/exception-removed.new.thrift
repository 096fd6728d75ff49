exception NotFound {
  1: string what
}

exception Denied {
  1: string why
}

service Files {
  binary read(1: string path) throws (1: NotFound missing)
}
