service Events {
  oneway i32 publish(1: string event)
}
