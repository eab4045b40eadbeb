// XML text for XMPP output. Everything that came from Discord (names, message text, file names, URLs) goes
// through XmlEscape before it is written into a stanza or a XEP-0227 file, so no content can add markup.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::xmpp {

// Makes `in` safe as XML 1.0 character data or attribute value:
//  - invalid UTF-8 bytes become U+FFFD; characters XML 1.0 forbids (C0 controls other than tab/LF/CR,
//    U+FFFE, U+FFFF) are dropped;
//  - & < > " ' are written as entities;
//  - tab, LF and CR are written as character references (&#9; &#10; &#13;), so a whole stanza fits on one
//    line (the loader reads the history one stanza per line) and attribute values keep their newlines.
std::string XmlEscape(std::string_view in);

// `in` as valid UTF-8 without characters XML forbids (same rules as XmlEscape, no escaping). For text that
// is checked or truncated before it is escaped.
std::string CleanUtf8(std::string_view in);

// Truncates UTF-8 text to at most `max_bytes`, never inside a character.
std::string TruncateUtf8(std::string_view in, std::size_t max_bytes);

// RFC 3339 UTC with whole seconds ("2019-03-01T12:00:05Z"), the form XEP-0082 uses. Prosody's archive
// keeps whole seconds, so sub-second parts are dropped here rather than rounded somewhere else.
std::string XmppStamp(std::int64_t unix_ms);

// Percent-encodes a path segment for a URL (RFC 3986 unreserved characters stay).
std::string UrlEncodeSegment(std::string_view in);

}  // namespace ferry::xmpp
