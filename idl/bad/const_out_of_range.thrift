// The default playback volume.
const byte LEVEL = 300

struct Volume {
  1: byte level = LEVEL
}
