// The exceptions in `throws` must be defined before the service.
service Store {
  void put(1: string key) throws (1: StoreError error)
}

exception StoreError {
  1: string message
}
