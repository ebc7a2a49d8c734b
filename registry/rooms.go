package registry

// Affiliation values of a RoomAffiliation (XEP-0045 §5.2); "none" is the
// absence of a record and is never stored.
const (
	RoomOwner   = "owner"
	RoomAdmin   = "admin"
	RoomMember  = "member"
	RoomOutcast = "outcast"
)

// Room is a persistent multi-user chat room (XEP-0045) of one MUC service.
// Only persistent rooms are stored, so a stored room is persistent.
type Room struct {
	// Service is the MUC service's domain and Name the room's localpart,
	// both canonical: the room's JID is Name@Service.
	Service, Name string
	Config        RoomConfig
	// Subject is the room's subject, "" for none; SubjectBy is the nick of
	// the occupant who set it, "" for the room itself.
	Subject, SubjectBy string
	// Affiliations lists the users with an affiliation, sorted by JID (byte
	// order); nil when read back empty.
	Affiliations []RoomAffiliation
}

// RoomConfig is a room's configuration, the muc#roomconfig form fields.
type RoomConfig struct {
	Title, Description string // muc#roomconfig_roomname, _roomdesc
	Public             bool   // listed in the service's disco#items
	MembersOnly        bool
	Moderated          bool
	Password           string // "" when the room is not password-protected
	// WhoIs is who sees occupants' real JIDs: "moderators" or "anyone". ""
	// is stored as "moderators".
	WhoIs         string
	MaxUsers      int // 0: the service's limit
	ChangeSubject bool
	AllowInvites  bool
	HistoryLength int
}

// RoomAffiliation is one user's affiliation with a room.
type RoomAffiliation struct {
	// JID is a canonical bare JID or a domain (affiliating a whole server).
	JID string
	// Affiliation is RoomOwner, RoomAdmin, RoomMember or RoomOutcast; stores
	// refuse anything else.
	Affiliation string
	Reason      string
}
