php_namespace Accounts

struct Account {
  1: i64 id
}
