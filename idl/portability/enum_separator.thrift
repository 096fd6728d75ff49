// Apache has no `;` or `,` after the `}` of an enum.
enum Color {
  RED = 1
  GREEN = 2
},
