// Feature flags for the checkout page.
const bool ENABLED = 2

struct Feature {
  1: string name
  2: bool enabled = ENABLED
}
