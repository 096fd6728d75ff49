// Apache has no `;` or `,` after the `}` of a struct.
struct Order {
  1: i64 id
};
