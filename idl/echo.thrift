// The echo service of the benchmarks (the shape of kitex-benchmark's and
// volo's echo IDL): the server returns the request's fields unchanged.
namespace rs echo

struct Request {
  1: required string action,
  2: required string msg,
}

struct Response {
  1: required string action,
  2: required string msg,
}

service EchoServer {
  Response Echo(1: Request req)
}
