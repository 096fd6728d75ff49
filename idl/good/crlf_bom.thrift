// A byte-order mark and CRLF line ends.
namespace rs crlf_bom

/** Documented. */
struct Windows {
  1: string path
  2: i32 drive = 3
}
