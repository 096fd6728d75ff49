exception NotFound {
  1: string what
}

service Files {
  binary read(1: string path)
}
