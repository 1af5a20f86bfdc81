package slack

import (
	"encoding/json"

	"github.com/upgradebot/upgradebot/adapters/inbound/jsonwalk"
)

// decodeInteraction decodes what the adapter reads of an interaction
// payload into in, exactly as json.Unmarshal(data, in) would. A press's
// payload (3 to 4 KB, most of it the message the button is on) is walked
// once, reading only the fields the adapter uses; encoding/json scans it
// twice (a validity check, then the decode) and was a tenth of a press's
// CPU. Anything out of the ordinary (an escaped or non-ASCII key, a field
// given twice or with an unexpected type, a modal's state, invalid JSON) is
// left to json.Unmarshal, so that its result and its errors stay the rule
// (FuzzDecodeInteraction).
func decodeInteraction(data []byte, in *interaction) error {
	if walkInteraction(data, in) {
		return nil
	}
	*in = interaction{}
	return json.Unmarshal(data, in)
}

// walkInteraction reads data into in as json.Unmarshal would, or returns
// false for anything it does not read exactly as that does (in is then
// partly read).
func walkInteraction(data []byte, in *interaction) bool {
	w := walker{jsonwalk.New(data)}
	return w.interaction(in)
}

// walker reads an interaction with jsonwalk's primitives. Each method
// returns false for anything it does not read exactly as encoding/json
// does; the caller then falls back to encoding/json.
type walker struct {
	jsonwalk.Walker
}

// The top-level fields of interaction, as bits of a set.
const (
	fieldNone = iota
	fieldType
	fieldTriggerID
	fieldResponseURL
	fieldUser
	fieldChannel
	fieldContainer
	fieldMessage
	fieldActions
	fieldView
)

// topField is the field a top-level key names, as encoding/json matches
// them (a switch of constants: a press has some 27 keys at the top).
func topField(k []byte) int {
	switch {
	case jsonwalk.KeyIs(k, "type"):
		return fieldType
	case jsonwalk.KeyIs(k, "trigger_id"):
		return fieldTriggerID
	case jsonwalk.KeyIs(k, "response_url"):
		return fieldResponseURL
	case jsonwalk.KeyIs(k, "user"):
		return fieldUser
	case jsonwalk.KeyIs(k, "channel"):
		return fieldChannel
	case jsonwalk.KeyIs(k, "container"):
		return fieldContainer
	case jsonwalk.KeyIs(k, "message"):
		return fieldMessage
	case jsonwalk.KeyIs(k, "actions"):
		return fieldActions
	case jsonwalk.KeyIs(k, "view"):
		return fieldView
	}
	return fieldNone
}

// interaction reads the whole document: an object, then nothing.
func (w *walker) interaction(in *interaction) bool {
	var seen uint32
	ok := w.Object(func(key []byte) bool {
		f := topField(key)
		if f == fieldNone {
			return w.Skip()
		}
		if seen&(1<<f) != 0 {
			return false // given twice: encoding/json merges, left to it
		}
		seen |= 1 << f
		switch f {
		case fieldType:
			return w.Str(&in.Type)
		case fieldTriggerID:
			return w.Str(&in.TriggerID)
		case fieldResponseURL:
			return w.Str(&in.ResponseURL)
		case fieldUser:
			return w.nested(func(k []byte) bool {
				switch {
				case jsonwalk.KeyIs(k, "id"):
					return w.Str(&in.User.ID)
				case jsonwalk.KeyIs(k, "name"):
					return w.Str(&in.User.Name)
				case jsonwalk.KeyIs(k, "username"):
					return w.Str(&in.User.Username)
				}
				return w.Skip()
			})
		case fieldChannel:
			return w.nested(func(k []byte) bool {
				if jsonwalk.KeyIs(k, "id") {
					return w.Str(&in.Channel.ID)
				}
				return w.Skip()
			})
		case fieldContainer:
			return w.nested(func(k []byte) bool {
				switch {
				case jsonwalk.KeyIs(k, "channel_id"):
					return w.Str(&in.Container.ChannelID)
				case jsonwalk.KeyIs(k, "thread_ts"):
					return w.Str(&in.Container.ThreadTs)
				}
				return w.Skip()
			})
		case fieldMessage:
			return w.nested(func(k []byte) bool {
				if jsonwalk.KeyIs(k, "thread_ts") {
					return w.Str(&in.Message.ThreadTs)
				}
				return w.Skip()
			})
		case fieldActions:
			return w.actions(&in.Actions)
		case fieldView:
			return w.nested(func(k []byte) bool {
				switch {
				case jsonwalk.KeyIs(k, "callback_id"):
					return w.Str(&in.View.CallbackID)
				case jsonwalk.KeyIs(k, "private_metadata"):
					return w.Str(&in.View.PrivateMetadata)
				case jsonwalk.KeyIs(k, "state"):
					return w.Null() // a modal's inputs: left to encoding/json
				}
				return w.Skip()
			})
		}
		return false
	})
	return ok && w.End()
}

// nested reads a nested struct: an object, or null (which leaves it as it
// is). A key given twice in a nested struct: the last wins, as in
// encoding/json (every nested field is a string).
func (w *walker) nested(member func(key []byte) bool) bool {
	return w.Null() || w.Object(member)
}

// actions reads the actions array: null leaves it, each element an
// object (or null, a zero action).
func (w *walker) actions(dst *[]action) bool {
	if w.Null() {
		return true
	}
	out := make([]action, 0, 1)
	ok := w.Array(func() bool {
		out = append(out, action{})
		a := &out[len(out)-1] // read in place: a variable would go to the heap
		return w.Null() || w.Object(func(k []byte) bool {
			switch {
			case jsonwalk.KeyIs(k, "action_id"):
				return w.Str(&a.ActionID)
			case jsonwalk.KeyIs(k, "value"):
				return w.Str(&a.Value)
			case jsonwalk.KeyIs(k, "action_ts"):
				return w.Str(&a.ActionTs)
			}
			return w.Skip()
		})
	})
	if ok {
		*dst = out
	}
	return ok
}
