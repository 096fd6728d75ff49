// Apache has no `;` or `,` after a cpp_include.
cpp_include "<vector>",

struct Order {
  1: i64 id
}
