service Reader extends Writer {
  string read()
}

service Writer extends Reader {
  void write(1: string data)
}
