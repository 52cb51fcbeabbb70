import { describe, expect, it } from "vitest";
import { newStreamId, refuseStream, STREAM_CLOSE, streamHeader } from "../../src/xmpp/stream-header.js";
import { componentHeader } from "../../src/xmpp/component.js";
import { StreamError } from "../../src/xmpp/errors.js";
import { NS_CLIENT, NS_SERVER } from "../../src/xmpp/ns.js";
import { parseXml, StreamReader, type Element } from "../helpers/xml.js";

const STREAMS = "http://etherx.jabber.org/streams";

describe("stream header (RFC 6120 section 4.7)", () => {
  it("writes the default namespace, the streams prefix, then the attributes in order, leaving empty ones out", () => {
    expect(streamHeader(NS_SERVER, { "xmlns:db": "jabber:server:dialback", version: "1.0", from: "a.test", to: undefined, id: "" })).toBe(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='${STREAMS}' xmlns:db='jabber:server:dialback' version='1.0' from='a.test'>`,
    );
  });

  it("escapes attribute values", () => {
    const h = streamHeader(NS_CLIENT, { from: "a'b<c&d" });
    expect(h).toBe(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${STREAMS}' from='a&apos;b&lt;c&amp;d'>`);
    expect(parseXml(h + STREAM_CLOSE).attrs.from).toBe("a'b<c&d");
  });

  it("is the component link's header too (XEP-0114 section 3)", () => {
    expect(componentHeader({ to: "partner.test" })).toBe(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='${STREAMS}' to='partner.test'>`,
    );
  });

  it("refuses a stream before any header with a header, the error and the closing tag", () => {
    const out = refuseStream(NS_CLIENT, new StreamError("policy-violation", "too many streams"));
    expect(out.startsWith(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${STREAMS}' version='1.0'>`)).toBe(true);
    expect(out.endsWith(STREAM_CLOSE)).toBe(true);
    const got: Element[] = [];
    const reader = new StreamReader((el) => got.push(el));
    reader.write(out);
    expect(reader.error).toBeUndefined();
    expect(got.map((el) => el.name)).toEqual(["stream:error"]);
    expect(got[0]!.getChild("policy-violation")?.attrs.xmlns).toBe("urn:ietf:params:xml:ns:xmpp-streams");
    expect(got[0]!.getChildText("text")).toBe("too many streams");
  });

  it("makes stream ids that differ and need no escaping", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newStreamId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
