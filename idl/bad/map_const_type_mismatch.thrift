// Request limits per period.
const map<string, i32> LIMITS = {
  "daily": 100,
  "weekly": [700],
}
