package config

import "testing"

func TestParseID(t *testing.T) {
	tests := []struct {
		in      string
		kind    IDKind
		value   string
		wantErr bool
	}{
		{in: "slack:U012AB3CD", kind: KindUser, value: "U012AB3CD"},
		{in: "slack:W012AB3CD", kind: KindUser, value: "W012AB3CD"},
		{in: "slack:S04XYZ", kind: KindGroup, value: "S04XYZ"},
		{in: "slack:C0123456", kind: KindChannel, value: "C0123456"},
		{in: "slack:G0123456", kind: KindChannel, value: "G0123456"},
		{in: "slack:D0123456", kind: KindChannel, value: "D0123456"},
		{in: "discord:80351110224678912", kind: KindUserOrChannel, value: "80351110224678912"},
		{in: "discord:&112233445566778899", kind: KindRole, value: "112233445566778899"},
		{in: "console:alice", kind: KindConsole, value: "alice"},
		// Short ids, as tests and fakes use: the type letter and one more.
		{in: "slack:U1", kind: KindUser, value: "U1"},
		{in: "slack:W1", kind: KindUser, value: "W1"},
		{in: "slack:S1", kind: KindGroup, value: "S1"},
		{in: "slack:C1", kind: KindChannel, value: "C1"},
		{in: "slack:G1", kind: KindChannel, value: "G1"},
		{in: "slack:D1", kind: KindChannel, value: "D1"},
		{in: "slack:UA", kind: KindUser, value: "UA"},
		{in: "discord:1", kind: KindUserOrChannel, value: "1"},
		{in: "discord:&2", kind: KindRole, value: "2"},
		{in: "slack:u012", wantErr: true},
		{in: "slack:X012345", wantErr: true},
		{in: "slack:U", wantErr: true},
		{in: "slack:u1", wantErr: true},
		{in: "slack:Uab", wantErr: true},
		{in: "slack:X1", wantErr: true},
		{in: "slack:1U", wantErr: true},
		{in: "slack:U-1", wantErr: true},
		{in: "slack: U1", wantErr: true},
		{in: "discord:", wantErr: true},
		{in: "discord:&a", wantErr: true},
		{in: "discord:-1", wantErr: true},
		{in: "slack:", wantErr: true},
		{in: "discord:abc", wantErr: true},
		{in: "discord:&", wantErr: true},
		{in: "discord:123456789012345678901", wantErr: true},
		{in: "console:", wantErr: true},
		{in: "console:two words", wantErr: true},
		{in: "teams:123", wantErr: true},
		{in: "alice", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseID(%q) = %+v, want error", tt.in, id)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseID(%q): %v", tt.in, err)
			}
			if id.Kind != tt.kind || id.Value != tt.value {
				t.Fatalf("ParseID(%q) = %+v, want kind %v value %q", tt.in, id, tt.kind, tt.value)
			}
			if id.String() != tt.in {
				t.Fatalf("String() = %q, want %q", id.String(), tt.in)
			}
		})
	}
}
