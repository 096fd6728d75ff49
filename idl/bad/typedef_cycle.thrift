// Aliases kept from an older version of the API.
typedef Alias Other
typedef Other Alias

struct Holder {
  1: Alias value
}
