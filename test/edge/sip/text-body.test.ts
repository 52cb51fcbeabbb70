/**
 * MESSAGE bodies of any text/* type as the text compliance reads and the
 * recipient gets: charsets decoded, HTML reduced to what a reader sees.
 */
import { describe, expect, it } from "vitest";
import { htmlToText, readTextBody } from "../../../src/edge/sip/text-body.js";

const latin1 = (s: string) => Buffer.from(s, "latin1").toString("binary");
const utf8 = (s: string) => Buffer.from(s, "utf8").toString("binary");

describe("text bodies", () => {
  it("reads HTML as the text a reader sees: a word split by tags is one word, hidden text is gone", () => {
    expect(htmlToText("<p>the blue<b>bird</b> plan</p><p>next</p>")).toBe("the bluebird plan\nnext");
    expect(htmlToText("a<!-- bluebird -->b<script>bluebird()</script><style>.x{content:'bluebird'}</style>c")).toBe("abc");
    expect(htmlToText("&#x62;lue&#98;ird &amp; &lt;tag&gt; &unknown; &#0;")).toBe("bluebird & <tag> &unknown; \ufffd");
    expect(htmlToText("<a href='https://x.example/bluebird'>link</a>")).toBe("link");
    expect(htmlToText("unterminated <!-- comment")).toBe("unterminated");
  });

  it("decodes by charset, UTF-8 by default, and refuses what it cannot read with 415", () => {
    expect(readTextBody("text/plain", utf8("Grüße"))).toEqual({ text: "Grüße" });
    expect(readTextBody('text/plain; charset="ISO-8859-1"', latin1("Grüße"))).toEqual({ text: "Grüße" });
    expect(readTextBody("TEXT/HTML;charset=utf-8", utf8("<b>x</b>"))).toEqual({ text: "x" });
    expect(readTextBody("text/enriched", utf8("blue<bold>bird</bold> <<x><param>bluebird</param>"))).toEqual({ text: "bluebird <x>" });
    // A type whose markup cannot be read here is refused, not passed unchecked.
    expect(readTextBody("text/rtf", utf8("{\\rtf1 blue{\\b bird}}"))).toMatchObject({ status: 415 });
    expect(readTextBody("text/plain", latin1("Grüße"))).toMatchObject({ status: 415 });
    expect(readTextBody("text/plain;charset=x-none", utf8("x"))).toMatchObject({ status: 415 });
    expect(readTextBody("application/octet-stream", utf8("x"))).toMatchObject({ status: 415 });
    expect(readTextBody(undefined, utf8("plain"))).toEqual({ text: "plain" });
  });
});
