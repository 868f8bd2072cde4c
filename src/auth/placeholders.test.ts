import { describe, expect, it } from "vitest";
import { emqxPlaceholders, expandPlaceholders, hasPlaceholder, mosquittoPlaceholders } from "./placeholders.js";

const alice = { clientId: "dev-1", username: "alice" };

describe("expandPlaceholders", () => {
  it("replaces %u and %c where they are a whole level", () => {
    expect(expandPlaceholders("u/%u/c/%c/#", alice, mosquittoPlaceholders)).toBe("u/alice/c/dev-1/#");
    expect(expandPlaceholders("%c/%c", alice, mosquittoPlaceholders)).toBe("dev-1/dev-1");
    expect(expandPlaceholders("a/x%c/%cx/%count", alice, mosquittoPlaceholders)).toBe("a/x%c/%cx/%count");
  });

  it("EMQX claims may also use ${username} and ${clientid}", () => {
    expect(expandPlaceholders("t/${clientid}/${username}", alice, emqxPlaceholders)).toBe("t/dev-1/alice");
    expect(expandPlaceholders("t/${clientid}", alice, mosquittoPlaceholders)).toBe("t/${clientid}");
  });

  it("does not apply when the value is missing, empty or would add levels or wildcards", () => {
    expect(expandPlaceholders("u/%u", { clientId: "c" }, mosquittoPlaceholders)).toBeUndefined();
    expect(expandPlaceholders("u/%u", { clientId: "c", username: "" }, mosquittoPlaceholders)).toBeUndefined();
    expect(expandPlaceholders("c/%c", { clientId: "" }, mosquittoPlaceholders)).toBeUndefined();
    for (const bad of ["+", "#", "a/b", "a+", "#b", "/"]) {
      expect(expandPlaceholders("u/%u", { clientId: "c", username: bad }, mosquittoPlaceholders)).toBeUndefined();
      expect(expandPlaceholders("c/%c", { clientId: bad }, mosquittoPlaceholders)).toBeUndefined();
    }
    // A value may not move a rule into the '$' topics, but may contain '$' elsewhere.
    expect(expandPlaceholders("%u/#", { clientId: "c", username: "$SYS" }, mosquittoPlaceholders)).toBeUndefined();
    expect(expandPlaceholders("u/%u/#", { clientId: "c", username: "$SYS" }, mosquittoPlaceholders)).toBe("u/$SYS/#");
    expect(expandPlaceholders("$share/%c", { clientId: "$x" }, mosquittoPlaceholders)).toBe("$share/$x");
    // A filter without placeholders is unaffected by a dangerous identity.
    expect(expandPlaceholders("a/#", { clientId: "#" }, mosquittoPlaceholders)).toBe("a/#");
  });

  it("hasPlaceholder looks at whole levels only", () => {
    expect(hasPlaceholder("a/%u", mosquittoPlaceholders)).toBe(true);
    expect(hasPlaceholder("a/x%u", mosquittoPlaceholders)).toBe(false);
    expect(hasPlaceholder("a/${username}", emqxPlaceholders)).toBe(true);
  });
});
