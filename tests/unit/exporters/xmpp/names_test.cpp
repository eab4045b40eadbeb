#include <gtest/gtest.h>

#include "exporters/xmpp/credentials.hpp"
#include "exporters/xmpp/names.hpp"
#include "exporters/xmpp/xml.hpp"

namespace ferry::xmpp {
namespace {

TEST(XmppNames, DomainValidation) {
  std::string n, why;
  EXPECT_TRUE(ValidateDomain("Chat.Example.ORG", &n, &why));
  EXPECT_EQ(n, "chat.example.org");
  EXPECT_TRUE(ValidateDomain("localhost", &n, &why));
  EXPECT_FALSE(ValidateDomain("", &n, &why));
  EXPECT_FALSE(ValidateDomain("bad domain", &n, &why));
  EXPECT_NE(why.find("' '"), std::string::npos);
  EXPECT_FALSE(ValidateDomain("a..b", &n, &why));
  EXPECT_FALSE(ValidateDomain("example.org.", &n, &why));
  EXPECT_FALSE(ValidateDomain("-x.org", &n, &why));
  EXPECT_FALSE(ValidateDomain("x@y.org", &n, &why));
  EXPECT_FALSE(ValidateDomain(std::string(64, 'a') + ".org", &n, &why));
}

TEST(XmppNames, LocalpartFromUsername) {
  EXPECT_EQ(LocalpartBase("alice"), "alice");
  EXPECT_EQ(LocalpartBase("Carol_K"), "carol_k");
  EXPECT_EQ(LocalpartBase("Bob the Builder"), "bob_the_builder");
  EXPECT_EQ(LocalpartBase("<script>@evil/'x'"), "script_evil_x");
  EXPECT_EQ(LocalpartBase("日本語"), "");
  EXPECT_EQ(LocalpartBase("..a.."), "a");
  EXPECT_LE(LocalpartBase(std::string(200, 'z')).size(), 64u);
}

TEST(XmppNames, CollisionsAreDeterministic) {
  NameAllocator a;
  EXPECT_EQ(a.Claim("alice"), "alice");
  EXPECT_EQ(a.Claim("alice", "alice_1234"), "alice_1234");
  EXPECT_EQ(a.Claim("alice"), "alice_2");
  EXPECT_EQ(a.Claim("alice"), "alice_3");
  a.Reserve("bob");
  EXPECT_EQ(a.Claim("bob"), "bob_2");
}

TEST(XmppNames, RoomSlugAndNick) {
  EXPECT_EQ(RoomSlug("general"), "general");
  EXPECT_EQ(RoomSlug("Release planning"), "release-planning");
  EXPECT_EQ(RoomSlug("🎉"), "channel");
  EXPECT_EQ(NickFromName("  Bob\tthe   Builder "), "Bob the Builder");
  EXPECT_EQ(NickFromName("a/b\x01"), "ab");
  EXPECT_EQ(NickFromName("Ünïcödé"), "Ünïcödé");
}

TEST(XmppXml, EscapesEverythingAndStaysOnOneLine) {
  EXPECT_EQ(XmlEscape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(XmlEscape("one\ntwo\r\n\tthree"), "one&#10;two&#13;&#10;&#9;three");
  EXPECT_EQ(XmlEscape(std::string("nul\0bell\x07", 9)), "nulbell");
  EXPECT_EQ(XmlEscape("bad\xff\xfe utf8"), "bad\xEF\xBF\xBD\xEF\xBF\xBD utf8");
  EXPECT_EQ(XmlEscape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(XmlEscape("🏳️‍🌈 日本"), "🏳️‍🌈 日本");
  EXPECT_EQ(XmlEscape("]]>"), "]]&gt;");
}

TEST(XmppXml, StampsAndUrls) {
  EXPECT_EQ(XmppStamp(1717243200123), "2024-06-01T12:00:00Z");
  EXPECT_EQ(XmppStamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(XmppStamp(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(UrlEncodeSegment("cat pic#1.png"), "cat%20pic%231.png");
  EXPECT_EQ(TruncateUtf8("aé", 2), "a");
}

TEST(XmppCredentials, ScramMatchesRfc5802Vector) {
  // RFC 5802 section 5: user "user", password "pencil", salt QSXCR+Q6sek8bf92, 4096 iterations.
  ScramVerifier v;
  std::string salt = "\x41\x25\xc2\x47\xe4\x3a\xb1\xe9\x3c\x6d\xff\x76";
  ASSERT_TRUE(MakeScramVerifier("pencil", "SHA-1", 4096, salt, &v).ok());
  EXPECT_EQ(v.salt_b64, "QSXCR+Q6sek8bf92");
  EXPECT_EQ(v.server_key_b64, "D+CSWLOshSulAsxiupA+qs2/fTE=");
  EXPECT_EQ(v.stored_key_b64, "6dlGYMOdZcOPutkcNY8U2g7vK9Y=");
  EXPECT_EQ(v.mechanism, "SCRAM-SHA-1");
}

TEST(XmppCredentials, RandomPasswordsDiffer) {
  std::string a, b;
  ASSERT_TRUE(RandomPassword(20, &a).ok());
  ASSERT_TRUE(RandomPassword(20, &b).ok());
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ferry::xmpp
