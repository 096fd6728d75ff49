// A byte-order mark and CRLF line ends.
namespace rs crlf_bom

/**
 * Documented, over
 * several lines.
 */
struct Windows {
  1: string path // a line comment ends before the CR
  2: i32 drive = 3 # so does a hash comment
  /* a block
     comment */
  3: list<string> parts
}

const string SEPARATOR = "\\"
const list<string> DRIVES = [
  "C:",
  "D:",
]
