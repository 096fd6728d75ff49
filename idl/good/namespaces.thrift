// Namespaces for several languages, a catch-all, annotations, cpp_include.
namespace rs my.module
namespace * everything.else
namespace py.twisted twisted_pkg
namespace java com.example.thrift (java.annotation = "generated", final)
namespace go example
cpp_include "<vector>"
cpp_include '<unordered_map>'

struct Named {
  1: string name
}
