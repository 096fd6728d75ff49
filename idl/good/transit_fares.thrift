// A namespace inside a shared one (`transit.fares` beside the submodules of
// `transit`), referring to both of its files.
namespace rs transit.fares

include "transit_lines.thrift"
include "transit_stops.thrift"

struct Fare {
  1: transit_stops.Stop from
  2: transit_stops.Stop to
  3: i64 cents
  4: optional transit_lines.Line line
}

const i32 LINES_VERSION = transit_stops.VERSION
