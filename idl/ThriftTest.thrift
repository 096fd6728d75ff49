// ThriftTest: the service of Apache Thrift's cross-language test suite,
// written for this project. It mirrors the Apache cross-test interface on
// the wire (every name, field id, type, requiredness and default), so our
// thrift-test-server and thrift-test-client can talk to the Apache reference
// libraries (see interop/). The comments on each method give the behaviour a
// conforming server must have; clients check answers against it.
//
// Debian's thrift 0.17 compiler predates `uuid`; interop/setup.sh removes
// `CrazyNesting.uuid_field` and `testUuid` from a copy before `--gen py`.

namespace rs thrift_test
namespace py thrift_test

/** Small numbers with gaps, to check that values are kept, not renumbered. */
enum Numberz {
  ONE = 1,
  TWO,
  THREE,
  FIVE = 5,
  SIX,
  EIGHT = 8
}

const Numberz myNumberz = Numberz.ONE

typedef i64 UserId

struct Bonk {
  1: string message,
  2: i32 type
}

typedef map<string, Bonk> MapType

struct Bools {
  1: bool im_true,
  2: bool im_false,
}

// The ids have gaps on purpose: readers must not assume consecutive ids.
struct Xtruct {
  1: string string_thing,
  4: i8 byte_thing,
  9: i32 i32_thing,
  11: i64 i64_thing
}

struct Xtruct2 {
  1: i8 byte_thing,
  2: Xtruct struct_thing,
  3: i32 i32_thing
}

struct Xtruct3 {
  1: string string_thing,
  4: i32 changed,
  9: i32 i32_thing,
  11: i64 i64_thing
}

// Used as a set element and map key in CrazyNesting, so Python needs it
// hashable (immutable).
struct Insanity {
  1: map<Numberz, UserId> userMap,
  2: list<Xtruct> xtructs
} (python.immutable = "")

struct CrazyNesting {
  1: string string_field,
  2: optional set<Insanity> set_field,
  3: required list<map<set<i32> (python.immutable = ""), map<i32, set<list<map<Insanity, string> (python.immutable = "")> (python.immutable = "")>>>> list_field,
  4: binary binary_field
  5: uuid uuid_field
}

union SomeUnion {
  1: map<Numberz, UserId> map_thing,
  2: string string_thing,
  3: i32 i32_thing,
  4: Xtruct3 xtruct_thing,
  5: Insanity insanity_thing
}

exception Xception {
  1: i32 errorCode,
  2: string message
}

exception Xception2 {
  1: i32 errorCode,
  2: Xtruct struct_thing
}

struct EmptyStruct {}

struct OneField {
  1: EmptyStruct field
}

/**
 * Every method but testOneway echoes or computes a value; a server may log
 * each call (the reference servers print e.g. `testString("abc")`).
 */
service ThriftTest {
  /** Returns nothing (an empty reply, not no reply). */
  void testVoid(),

  /** Returns `thing` unchanged, byte for byte. */
  string testString(1: string thing),

  /** Returns `thing`. */
  bool testBool(1: bool thing),

  /** Returns `thing` (i8; `byte` is the older spelling). */
  i8 testByte(1: i8 thing),

  /** Returns `thing`. */
  i32 testI32(1: i32 thing),

  /** Returns `thing`. */
  i64 testI64(1: i64 thing),

  /** Returns `thing` with the same bits (NaN stays NaN, -0.0 stays negative). */
  double testDouble(1: double thing),

  /** Returns `thing` unchanged; any bytes, not necessarily UTF-8. */
  binary testBinary(1: binary thing),

  /** Returns `thing`; the 16 bytes keep their order on the wire. */
  uuid testUuid(1: uuid thing),

  /** Returns `thing`, every field as sent. */
  Xtruct testStruct(1: Xtruct thing),

  /** Returns `thing`, the nested struct included. */
  Xtruct2 testNest(1: Xtruct2 thing),

  /** Returns `thing`. */
  map<i32, i32> testMap(1: map<i32, i32> thing),

  /** Returns `thing`. */
  map<string, string> testStringMap(1: map<string, string> thing),

  /** Returns `thing`. */
  set<i32> testSet(1: set<i32> thing),

  /** Returns `thing`, order kept. */
  list<i32> testList(1: list<i32> thing),

  /** Returns `thing`, also a value the enum does not declare. */
  Numberz testEnum(1: Numberz thing),

  /** Returns `thing`. */
  UserId testTypedef(1: UserId thing),

  /**
   * Ignores `hello` except for logging and returns
   * {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}}.
   */
  map<i32, map<i32, i32>> testMapMap(1: i32 hello),

  /**
   * Returns {1: {TWO: argument, THREE: argument}, 2: {SIX: an Insanity with
   * no field set}}. (Servers that write unset default-requiredness fields
   * send the last one as an empty map and an empty list; clients accept both.)
   */
  map<UserId, map<Numberz, Insanity>> testInsanity(1: Insanity argument),

  /**
   * Returns Xtruct{string_thing: "Hello2", byte_thing: arg0,
   * i32_thing: arg1, i64_thing: arg2}; arg3 to arg5 are only logged.
   */
  Xtruct testMulti(1: i8 arg0, 2: i32 arg1, 3: i64 arg2, 4: map<i16, string> arg3, 5: Numberz arg4, 6: UserId arg5),

  /**
   * arg == "Xception": throws Xception{errorCode: 1001, message: arg}.
   * arg == "TException": fails with an application exception (the Apache
   * servers send TApplicationException INTERNAL_ERROR).
   * Anything else: returns normally.
   */
  void testException(1: string arg) throws (1: Xception err1),

  /**
   * arg0 == "Xception": throws Xception{errorCode: 1001,
   * message: "This is an Xception"}.
   * arg0 == "Xception2": throws Xception2{errorCode: 2002,
   * struct_thing: Xtruct{string_thing: "This is an Xception2"}}.
   * Anything else: returns Xtruct{string_thing: arg1}.
   */
  Xtruct testMultiException(1: string arg0, 2: string arg1) throws (1: Xception err1, 2: Xception2 err2)

  /**
   * Sleeps `secondsToSleep` seconds and sends nothing back: the client
   * returns as soon as the call is written, and the connection stays usable
   * for the next call.
   */
  oneway void testOneway(1: i32 secondsToSleep)
}

/** A second service, for multiplexed setups. */
service SecondService {
  /** Returns `thing` unchanged. */
  string secondtestString(1: string thing)
}

// The types below are not used by the service. They exercise schema
// evolution, large field ids, deep nesting and defaults; some Apache test
// programs use them directly.

struct VersioningTestV1 {
  1: i32 begin_in_both,
  3: string old_string,
  12: i32 end_in_both
}

struct VersioningTestV2 {
  1: i32 begin_in_both,

  2: i32 newint,
  3: i8 newbyte,
  4: i16 newshort,
  5: i64 newlong,
  6: double newdouble
  7: Bonk newstruct,
  8: list<i32> newlist,
  9: set<i32> newset,
  10: map<i32, i32> newmap,
  11: string newstring,
  12: i32 end_in_both
}

struct ListTypeVersioningV1 {
  1: list<i32> myints;
  2: string hello;
}

struct ListTypeVersioningV2 {
  1: list<string> strings;
  2: string hello;
}

struct GuessProtocolStruct {
  7: map<string, string> map_field,
}

// Field id deltas beyond 15 force the long field header in compact.
struct LargeDeltas {
  1: Bools b1,
  10: Bools b10,
  100: Bools b100,
  500: bool check_true,
  1000: Bools b1000,
  1500: bool check_false,
  2000: VersioningTestV2 vertwo2000,
  2500: set<string> a_set2500,
  3000: VersioningTestV2 vertwo3000,
  4000: list<i32> big_numbers
}

struct NestedListsI32x2 {
  1: list<list<i32>> integerlist
}

struct NestedListsI32x3 {
  1: list<list<list<i32>>> integerlist
}

struct NestedMixedx2 {
  1: list<set<i32>> int_set_list
  2: map<i32, set<string>> map_int_strset
  3: list<map<i32, set<string>>> map_int_strset_list
}

struct ListBonks {
  1: list<Bonk> bonk
}

struct NestedListsBonk {
  1: list<list<list<Bonk>>> bonk
}

struct BoolTest {
  1: optional bool b = true;
  2: optional string s = "true";
}

struct StructA {
  1: required string s;
}

struct StructB {
  1: optional StructA aa;
  2: required StructA ab;
}

struct OptionalSetDefaultTest {
  1: optional set<string> with_default = ["test"]
}

struct OptionalBinary {
  1: optional set<binary> bin_set = {}
  2: optional map<binary, i32> bin_map = {}
}
