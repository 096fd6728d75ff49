// Structs, unions and exceptions with every field form.
namespace rs structs

struct Account {
  1: required i64 id
  2: required string owner (max_length = "64")
  3: optional string email
  4: i32 balance_cents = 0
  5: list<string> notes = []
  6: map<string, string> labels = {}
}

/** A tree whose children are trees. */
struct Tree {
  1: i32 value
  2: optional list<Tree> children
  3: optional Tree & left
  4: optional Tree & right
}

// Mutually recursive.
struct Folder {
  1: string name
  2: list<File> files
  3: optional Folder parent
}

struct File {
  1: string name
  2: optional Folder folder
}

union Payment {
  1: string card_token
  2: i64 account_id
  3: binary voucher
  4: optional string cash_note
}

exception InsufficientFunds {
  1: required i64 needed_cents
  2: i64 available_cents;
  3: string message = "insufficient funds",
}

exception Empty {}

struct Legacy xsd_all {
  1: string a xsd_optional
  2: string b xsd_nillable
  3: string c xsd_optional xsd_nillable
  4: string d xsd_attrs { 1: string lang 2: string region }
}

struct Separators {
  1: i32 a,
  2: i32 b;
  3: i32 c
}
