import { describe, expect, it } from "vitest";
import { csvCell, toCsv, toJson } from "./export.js";
import type { LoggedMessage } from "./message-log.js";

const m = (payload: Uint8Array, extra: Partial<LoggedMessage> = {}): LoggedMessage => ({
  seq: 0,
  time: Date.UTC(2026, 0, 2, 3, 4, 5),
  dir: "in",
  topic: "a/b",
  payload,
  qos: 1,
  retain: true,
  dup: false,
  ...extra,
});

describe("export", () => {
  it("JSON: UTF-8 payloads as text, others as base64, with properties", () => {
    const out = JSON.parse(toJson([m(new TextEncoder().encode("hi"), { props: { contentType: "text/plain", userProperties: [["k", "v"]] } }), m(new Uint8Array([0xff, 0]), { dir: "out" })]));
    expect(out).toEqual([
      {
        time: "2026-01-02T03:04:05.000Z",
        direction: "received",
        topic: "a/b",
        qos: 1,
        retain: true,
        encoding: "utf8",
        payload: "hi",
        properties: { contentType: "text/plain", userProperties: [["k", "v"]] },
      },
      { time: "2026-01-02T03:04:05.000Z", direction: "sent", topic: "a/b", qos: 1, retain: true, encoding: "base64", payload: "/wA=" },
    ]);
  });

  it("CSV: RFC 4180 quoting", () => {
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvCell("plain")).toBe("plain");
    const csv = toCsv([m(new TextEncoder().encode("x,y"))]);
    expect(csv).toBe('time,direction,topic,qos,retain,encoding,payload,properties\r\n2026-01-02T03:04:05.000Z,received,a/b,1,true,utf8,"x,y",\r\n');
  });
});
