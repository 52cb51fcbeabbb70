import { describe, expect, it } from "vitest";
import { fromXmppPresence, toXmppPresence } from "../../src/mapping/xmpp-presence.js";
import { RICH_STATES } from "../../src/model/presence.js";

describe("toXmppPresence xmpp-rich", () => {
  it("keeps the rich meaning in show and a canonical status", () => {
    expect(toXmppPresence({ state: "available" }, "xmpp-rich")).toEqual({});
    expect(toXmppPresence({ state: "away" }, "xmpp-rich")).toEqual({ show: "away" });
    expect(toXmppPresence({ state: "dnd" }, "xmpp-rich")).toEqual({ show: "dnd" });
    expect(toXmppPresence({ state: "busy" }, "xmpp-rich")).toEqual({ show: "dnd", status: "Busy" });
    expect(toXmppPresence({ state: "on-the-phone" }, "xmpp-rich")).toEqual({ show: "dnd", status: "On the phone" });
    expect(toXmppPresence({ state: "in-a-meeting" }, "xmpp-rich")).toEqual({ show: "dnd", status: "In a meeting" });
    expect(toXmppPresence({ state: "idle" }, "xmpp-rich")).toEqual({ show: "xa", status: "Idle" });
    expect(toXmppPresence({ state: "offline" }, "xmpp-rich")).toEqual({ type: "unavailable" });
  });

  it("appends the user's note after the label", () => {
    expect(toXmppPresence({ state: "in-a-meeting", note: "until 3pm" }, "xmpp-rich")).toEqual({
      show: "dnd",
      status: "In a meeting: until 3pm",
    });
    expect(toXmppPresence({ state: "available", note: "at my desk" }, "xmpp-rich")).toEqual({ status: "at my desk" });
    expect(toXmppPresence({ state: "offline", note: "gone home" }, "xmpp-rich")).toEqual({
      type: "unavailable",
      status: "gone home",
    });
  });
});

describe("toXmppPresence xmpp-basic", () => {
  it("reduces to available, away and unavailable", () => {
    for (const state of RICH_STATES) {
      const x = toXmppPresence({ state }, "xmpp-basic");
      if (state === "available") expect(x).toEqual({});
      else if (state === "offline") expect(x).toEqual({ type: "unavailable" });
      else expect(x).toEqual({ show: "away" });
    }
  });
  it("passes the note through as status without a label", () => {
    expect(toXmppPresence({ state: "on-the-phone", note: "call me later" }, "xmpp-basic")).toEqual({
      show: "away",
      status: "call me later",
    });
  });
});

describe("fromXmppPresence", () => {
  it("maps plain XMPP values to the nearest rich state", () => {
    expect(fromXmppPresence({})).toEqual({ state: "available" });
    expect(fromXmppPresence({ show: "chat" })).toEqual({ state: "available" });
    expect(fromXmppPresence({ show: "away" })).toEqual({ state: "away" });
    expect(fromXmppPresence({ show: "xa" })).toEqual({ state: "away" });
    expect(fromXmppPresence({ show: "dnd" })).toEqual({ state: "dnd" });
    expect(fromXmppPresence({ type: "unavailable" })).toEqual({ state: "offline" });
    expect(fromXmppPresence({ type: "error" })).toEqual({ state: "offline" });
  });

  it("keeps a partner's free text as the note", () => {
    expect(fromXmppPresence({ show: "xa", status: "Gone fishing" })).toEqual({ state: "away", note: "Gone fishing" });
    expect(fromXmppPresence({ status: "Busy" })).toEqual({ state: "available", note: "Busy" });
  });

  it("reads our canonical texts back to the rich state", () => {
    expect(fromXmppPresence({ show: "dnd", status: "On the phone" })).toEqual({ state: "on-the-phone" });
    expect(fromXmppPresence({ show: "away", status: "in a meeting" })).toEqual({ state: "in-a-meeting" });
    expect(fromXmppPresence({ show: "dnd", status: "Busy: deadline" })).toEqual({ state: "busy", note: "deadline" });
    expect(fromXmppPresence({ show: "xa", status: "Idle" })).toEqual({ state: "idle" });
    // dnd with "Idle" is a contradiction: dnd wins.
    expect(fromXmppPresence({ show: "dnd", status: "Idle" })).toEqual({ state: "dnd", note: "Idle" });
  });

  it("round-trips every rich state through xmpp-rich", () => {
    for (const state of RICH_STATES) {
      expect(fromXmppPresence(toXmppPresence({ state }, "xmpp-rich"))).toEqual({ state });
      expect(fromXmppPresence(toXmppPresence({ state, note: "n1" }, "xmpp-rich"))).toEqual({ state, note: "n1" });
    }
  });
});
