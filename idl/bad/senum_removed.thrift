senum Currency {
  "EUR",
  "USD"
}
