union Contact {
  1: string email
  2: string phone
  3: string pager
}
