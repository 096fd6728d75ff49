exception Rejected {
  1: string reason
}

service Events {
  oneway void publish(1: string event) throws (1: Rejected rejected)
}
