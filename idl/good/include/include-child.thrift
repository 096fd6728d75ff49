// Included by simple-service.thrift: its module is `include_child`. (IDL
// cannot name its definitions, `include-child.X` is not an identifier, but
// the file is generated all the same.)
struct Child {
  1: string name
}
