// Constants of every type and notation, and references to other constants.
namespace rs constants

enum Color {
  RED = 1
  GREEN = 2
  BLUE = 3
}

struct Point {
  1: i32 x
  2: i32 y
  3: optional string label
}

const bool YES = true
const bool NO = false
const byte MIN_BYTE = -128
const i8 MAX_I8 = 127
const i16 HEX_SHORT = 0x7FFF
const i32 NEGATIVE_HEX = -0xff
const i32 SIGNED = +42
const i64 BIG = 9223372036854775807
const i64 SMALL = -9223372036854775808
const double HALF = .5
const double HUNDRED_K = 1e5
const double SIGNED_EXP = +1.5E+5
const double TINY = -2.5e-3
const double ONE = 1.0
const double FROM_INT = 7
const string DOUBLE_QUOTED = "say \"hi\"\n\ttab \\ backslash \r"
const string SINGLE_QUOTED = 'it\'s "fine"'
const binary BYTES = "raw"
const uuid NIL_ID = "00000000-0000-0000-0000-000000000000"
const uuid BRACED_ID = "{12345678-9abc-def0-1234-56789ABCDEF0}"

const list<i32> PRIMES = [2, 3, 5, 7, 11,]
const set<string> WORDS = ["alpha"; "beta"; "gamma"]
const map<string, i32> AGES = {"ann": 31, "bob": 27}
const map<Color, string> COLOR_NAMES = {Color.RED: "red", Color.GREEN: "green", Color.BLUE: "blue"}
const list<map<string, list<i32>>> NESTED = [{"a": [1, 2]}, {"b": []}]
const map<string, set<i32>> EMPTY_SETS = {"none": {}}

const Point ORIGIN = {"x": 0, "y": 0}
const Point LABELLED = {"x": 1, "y": -1, "label": "corner"}
const list<Point> PATH = [{"x": 0, "y": 0}, {"x": 3, "y": 4}]

const i32 LIMIT = 100
const i32 ALSO_LIMIT = LIMIT
const Color FAVOURITE = Color.BLUE
const i32 FAVOURITE_NUMBER = Color.GREEN
const i64 WIDENED = LIMIT;
const bool FROM_INT_TRUE = 1,
