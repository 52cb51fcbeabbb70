/**
 * Declarations for the parts of the `sip` package (kirm/sip.js, CommonJS, no
 * types) that the SIP edge uses, and for the XML parse entry of @xmpp/xml that
 * reads PIDF bodies.
 */
declare module "sip" {
  export interface SipUri {
    schema: string;
    user?: string | undefined;
    password?: string | undefined;
    host: string;
    port?: number | undefined;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }
  export interface NameAddr {
    name?: string | undefined;
    uri: string;
    params: Record<string, string | null>;
  }
  export interface Via {
    version: string;
    protocol: string;
    host: string;
    port?: number | undefined;
    params: Record<string, string | null>;
  }
  export interface CSeq {
    seq: number;
    method: string;
  }
  export interface SipHeaders {
    via?: Via[];
    to?: NameAddr;
    from?: NameAddr;
    "call-id"?: string;
    cseq?: CSeq;
    contact?: NameAddr[] | "*";
    "content-length"?: number;
    [name: string]: unknown;
  }
  export interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipHeaders;
    /** A binary string: one char per byte. */
    content?: string;
  }
  /** Parses one whole message given as a binary string; undefined when the start line or framing is wrong. */
  export function parse(s: string): SipMessage | undefined;
  export function stringify(m: SipMessage): string;
  export function parseUri(s: string): SipUri | undefined;
  export function stringifyUri(u: SipUri | string): string;
  export function makeResponse(rq: SipMessage, status: number, reason?: string, extension?: { headers?: Record<string, unknown>; content?: string }): SipMessage;
  export function generateBranch(): string;
  export function makeStreamParser(
    onMessage: (m: SipMessage) => void,
    onFlood?: () => void,
    maxBytesHeaders?: number,
    maxContentLength?: number,
  ): (data: string) => void;
  const sip: {
    parse: typeof parse;
    stringify: typeof stringify;
    parseUri: typeof parseUri;
    stringifyUri: typeof stringifyUri;
    makeResponse: typeof makeResponse;
    generateBranch: typeof generateBranch;
    makeStreamParser: typeof makeStreamParser;
  };
  export default sip;
}

declare module "@xmpp/xml/lib/parse.js" {
  export interface XmlElement {
    name: string;
    attrs: Record<string, string>;
    children: (XmlElement | string)[];
    getName(): string;
    getNS(): string | undefined;
    getText(): string;
    toString(): string;
  }
  export default function parse(data: string): XmlElement;
}

declare module "@xmpp/xml/lib/Parser.js" {
  import type { XmlElement } from "@xmpp/xml/lib/parse.js";
  export default class Parser {
    on(event: "start" | "element" | "end", fn: (el: XmlElement) => void): this;
    on(event: "error", fn: (err: Error) => void): this;
    write(data: string): void;
    end(data?: string): void;
  }
}
