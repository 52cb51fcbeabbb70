/**
 * The content model through the pipeline: a word hidden in any part of a
 * stanza (read from the wire by the edge's own reader) is found, blocked or
 * redacted everywhere, and the stanza rendered back carries only what was
 * decided; `extensions:` strips, passes or blocks what the edge does not model.
 */
import { describe, expect, it } from "vitest";
import { stanzaToEnvelope, envelopeToStanza } from "../../src/xmpp/translate.js";
import { Parser, type Element } from "../../src/xmpp/xml.js";
import { contentParts, mapContent, matchable } from "../../src/pipeline/content.js";
import type { Envelope } from "../../src/model/envelope.js";
import { pipelineFor, policyProblems } from "./fixtures.js";

const sec = { auth: "certificate" as const };

function parse(text: string): Element {
  let out: Element | undefined;
  const p = new Parser();
  p.on("element", (el: Element) => (out = el));
  p.write(`<stream xmlns='jabber:server'>${text}`);
  return out!;
}

const inbound = (stanza: string): Envelope => stanzaToEnvelope(parse(stanza), "partner.example", sec);

const BLOCK = `kind: policy
rules:
  - id: no-secret
    when: { words: [secret] }
    then: { action: block }
`;
const REDACT = `kind: policy
rules:
  - id: redact-secret
    when: { words: [secret] }
    then: { action: redact, replacement: "***" }
`;
const PASS_ALL = `kind: policy
extensions:
  - { action: pass }
`;

const M = (inner: string, attrs = "") => `<message from='eve@partner.example/x' to='bob@corp.example' type='chat' id='m1'${attrs}>${inner}</message>`;

/** One stanza per place a word can hide, as a partner could send it. */
const HIDING: [string, string][] = [
  ["body", M("<body>the secret</body>")],
  ["subject", M("<subject>secret</subject><body>hi</body>")],
  ["xhtml split across elements", M("<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>se<b>cret</b></p></body></html>")],
  ["xhtml attribute", M("<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><a href='https://x.example/secret'>link</a></body></html>")],
  ["xhtml element name", M("<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><secret/>x</body></html>")],
  ["oob desc", M("<body>file</body><x xmlns='jabber:x:oob'><url>https://x.example/f</url><desc>the secret file</desc></x>")],
  ["sfs name", M("<file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'><name>secret.pdf</name></file><sources/></file-sharing>")],
  ["muc mediated reason", M("<x xmlns='http://jabber.org/protocol/muc#user'><invite from='eve@partner.example'><reason>a secret room</reason></invite></x>")],
  ["muc direct reason (attribute)", M("<x xmlns='jabber:x:conference' jid='room@muc.partner.example' reason='secret talk'/>")],
  ["nick", M("<body>hi</body><nick xmlns='http://jabber.org/protocol/nick'>Secret Agent</nick>")],
  ["correction", M("<body>the secret, corrected</body><replace xmlns='urn:xmpp:message-correct:0' id='m0'/>")],
  ["entity-encoded", M("<body>the &#x73;ecret</body>")],
  ["CDATA", M("<body><![CDATA[the secret]]></body>")],
  ["full-width letters", M("<body>the ｓｅｃｒｅｔ</body>")],
  ["zero-width joiner inside", M("<body>the sec\u200Dret</body>")],
  ["upper case", M("<body>THE SECRET</body>")],
  ["Cyrillic look-alike letters", M("<body>the sеcrеt</body>")],
  ["strike-through combining marks", M("<body>the s\u0336e\u0336cret</body>")],
  ["unknown extension text", M("<body>hi</body><x xmlns='urn:example:notes'><note>secret</note></x>")],
  ["unknown extension attribute", M("<body>hi</body><x xmlns='urn:example:notes' label='secret'/>")],
  ["unknown extension namespace", M("<body>hi</body><x xmlns='urn:secret:0'/>")],
  ["presence status", "<presence from='eve@partner.example/x' to='bob@corp.example'><status>secret plans</status></presence>"],
  ["presence nick", "<presence from='eve@partner.example/x' to='bob@corp.example'><nick xmlns='http://jabber.org/protocol/nick'>secret</nick></presence>"],
  ["subscription nick", "<presence from='eve@partner.example' to='bob@corp.example' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>secret</nick></presence>"],
  ["jingle file name (iq)", "<iq from='eve@partner.example/x' to='bob@corp.example/d' type='set' id='j1'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s1'><content creator='initiator' name='f'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><name>secret.txt</name></file></description></content></jingle></iq>"],
  ["iq oob desc", "<iq from='eve@partner.example/x' to='bob@corp.example/d' type='set' id='o1'><query xmlns='jabber:iq:oob'><url>https://x.example/f</url><desc>secret</desc></query></iq>"],
  ["stanza id", M("<body>hi</body>", "").replace("id='m1'", "id='the-secret-1'")],
  ["correction target id", M("<body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='secret'/>")],
  ["direct invitation thread", M("<x xmlns='jabber:x:conference' jid='room@muc.partner.example' continue='true' thread='secret'/>")],
  ["receipt id (a signal)", M("<received xmlns='urn:xmpp:receipts' id='secret'/>")],
  ["error text", "<message from='eve@partner.example/x' to='bob@corp.example' type='error' id='e1'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>secret</text></error></message>"],
];

describe("content parts", () => {
  it.each(HIDING)("finds the word in: %s", (_where, stanza) => {
    const parts = contentParts(inbound(stanza));
    expect(parts.some((p) => /secret/i.test(matchable(p.text))), JSON.stringify(parts)).toBe(true);
  });

  it.each(HIDING)("blocks a message with the word in: %s (with extensions passed, the rules still read them)", async (_where, stanza) => {
    const d = await pipelineFor({ "10.yaml": BLOCK, "20.yaml": PASS_ALL }).evaluate(inbound(stanza));
    expect(d.deliver).toBe(false);
    expect(d.verdicts.at(-1)).toMatchObject({ ruleId: "no-secret", action: "block" });
  });

  it.each(HIDING)("redacts the word everywhere in: %s, and the rendered stanza does not carry it", async (_where, stanza) => {
    const d = await pipelineFor({ "10.yaml": REDACT, "20.yaml": PASS_ALL }).evaluate(inbound(stanza));
    expect(d.deliver).toBe(true);
    const wire = envelopeToStanza({ ...d.envelope, direction: "outbound" }, "xmpp-rich").toString();
    // A redacted name or namespace drops its element; every other part reads "***" where the word was.
    expect(matchable(wire)).not.toMatch(/secret/i);
  });

  it("does not read a known element's name or namespace as text: a rule on 'request' or 'protocol' does not fire on receipts or XHTML", async () => {
    const env = inbound(M("<body>hi</body><request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>hi</p></body></html>"));
    const d = await pipelineFor({ "10.yaml": "kind: policy\nrules:\n  - { id: w, when: { words: [request, protocol, active, body, www] }, then: { action: block } }\n" }).evaluate(env);
    expect(d.deliver).toBe(true);
    expect(contentParts(env).map((p) => p.text)).toEqual(["hi", "m1", "hi"]);
  });

  it("re-renders XHTML from the redacted text, and leaves untouched parts as written", () => {
    const env = inbound(M("<body>a secret</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>a <em>secret</em></p><p>line two</p></body></html><nick xmlns='http://jabber.org/protocol/nick'>Ｅve</nick>"));
    const out = mapContent(env, (t, p) => (p.kind === "xhtml" || p.kind === "body" ? t.replace("secret", "***") : undefined));
    expect(out.body).toBe("a ***");
    const xhtml = envelopeToStanza(out, "xmpp-rich").getChild("html", "http://jabber.org/protocol/xhtml-im")!.toString();
    expect(xhtml).toBe("<html xmlns=\"http://jabber.org/protocol/xhtml-im\"><body xmlns=\"http://www.w3.org/1999/xhtml\">a ***<br/>line two</body></html>");
    expect(out.nick).toBe("Ｅve");
    expect(mapContent(env, () => undefined)).toEqual(env);
  });
});

describe("extensions: strip | pass | block", () => {
  const withExt = (direction: Envelope["direction"]) => ({ ...inbound(M("<body>hi</body><x xmlns='urn:example:notes'>n</x><active xmlns='http://jabber.org/protocol/chatstates'/>")), direction });

  it("strips what the edge does not model when it crosses the edge, by default, and keeps known signals", async () => {
    const p = pipelineFor({ "10.yaml": "kind: policy\n" });
    for (const dir of ["inbound", "outbound"] as const) {
      const d = await p.evaluate(withExt(dir));
      expect(d.deliver).toBe(true);
      expect(d.envelope.extensions).toBeUndefined();
      expect(d.envelope.signals).toHaveLength(1);
      expect(d.verdicts[0]).toMatchObject({ stage: "extensions", action: "strip", detail: "1 ({urn:example:notes}x)" });
    }
    const internal = await p.evaluate(withExt("internal"));
    expect(internal.envelope.extensions).toHaveLength(1);
    expect(internal.verdicts).toEqual([]);
  });

  it("a known signal carrying more than its shape allows is an extension, not a side channel", async () => {
    const env = inbound(M("<body>hi</body><active xmlns='http://jabber.org/protocol/chatstates' data='x'/><received xmlns='urn:xmpp:receipts' id='r1'><payload>x</payload></received><request xmlns='urn:xmpp:receipts'/>"));
    expect(env.signals?.map((x) => x.name)).toEqual(["request"]);
    expect(env.extensions?.map((x) => x.name)).toEqual(["active", "received"]);
    const d = await pipelineFor({ "10.yaml": "kind: policy\n" }).evaluate(env);
    expect(d.envelope.extensions).toBeUndefined();
    expect(d.envelope.signals).toHaveLength(1);
  });

  it("passes or blocks per direction and partner, first match wins", async () => {
    const p = pipelineFor({
      "10.yaml": `kind: policy
extensions:
  - { id: trusted, partners: ["*.trusted.example", partner.example], direction: inbound, action: pass }
  - { id: no-unknown-out, direction: outbound, action: block, reason: "Unknown payloads may not leave." }
`,
    });
    expect((await p.evaluate(withExt("inbound"))).envelope.extensions).toHaveLength(1);
    const out = await p.evaluate(withExt("outbound"));
    expect(out).toMatchObject({ deliver: false, error: { condition: "policy-violation", text: "Unknown payloads may not leave." } });
    expect(out.verdicts).toEqual([expect.objectContaining({ stage: "extensions", ruleId: "no-unknown-out", action: "block" })]);
    const other = await p.evaluate({ ...withExt("inbound"), partnerDomain: "other.example" });
    expect(other.envelope.extensions).toBeUndefined();
  });

  it("is checked by lint: actions, directions and partner patterns, with file and line", () => {
    expect(policyProblems({ "10.yaml": "kind: policy\nextensions:\n  - { action: drop }\n" })[0]).toMatch(/^10\.yaml:3: .*action must be one of strip, pass, block/);
    expect(policyProblems({ "10.yaml": "kind: policy\nextensions:\n  - action: pass\n    partners: [\"xmpp://p.example\"]\n" })).toEqual([
      '10.yaml:4: extensions 0: partner "xmpp://p.example" must be a domain or a *-pattern of domains',
    ]);
  });
});

describe("stages reading every part", () => {
  const xhtmlMsg = M("<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>" + "x".repeat(600) + "</p></body></html>");

  it("a size limit counts every part, not only the body", async () => {
    const p = pipelineFor({ "10.yaml": "kind: policy\nlimits:\n  - { id: small, per: partner, max_body_bytes: 500 }\n" });
    const d = await p.evaluate(inbound(xhtmlMsg));
    expect(d).toMatchObject({ deliver: false, verdicts: [{ ruleId: "small", action: "block" }] });
    expect((await p.evaluate(inbound(M("<body>hi</body>")))).deliver).toBe(true);
  });

  it("a disclaimer reaches the XHTML form too", async () => {
    const p = pipelineFor({ "10.yaml": "kind: policy\nrules:\n  - id: d\n    then: { action: disclaimer, text: Monitored. }\n" });
    const d = await p.evaluate(inbound(M("<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>hi</p></body></html>")));
    expect(d.envelope.body).toBe("hi\n\nMonitored.");
    const html = envelopeToStanza(d.envelope, "xmpp-rich").getChild("html")!.toString();
    expect(html).toBe('<html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml"><p>hi</p><p>Monitored.</p></body></html>');
  });
});
