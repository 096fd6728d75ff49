// Two files share `namespace rs transit` (with transit_stops.thrift): each
// is a submodule named after its file, re-exported from `transit`.
namespace rs transit

include "transit_stops.thrift"

struct Line {
  1: string name
  2: list<transit_stops.Stop> stops
}

/** Both files define `Version`: reachable only through its file's module. */
const i32 VERSION = 1
