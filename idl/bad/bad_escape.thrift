// Where the nightly backup is written.
struct Backup {
  1: string target = "C:\temp\quotes"
}
