import { describe, expect, it } from "vitest";
import { eventually } from "./eventually.js";

describe("eventually", () => {
  it("retries a predicate until it holds", async () => {
    let n = 0;
    await expect(eventually(() => ++n >= 3, { interval: 1 })).resolves.toBe(true);
    expect(n).toBe(3);
  });

  it("retries an assertion and returns the value of the try that passed", async () => {
    let n = 0;
    const value = await eventually(
      async () => {
        n++;
        expect(n).toBeGreaterThan(2);
        return `try ${n}`;
      },
      { interval: 1 },
    );
    expect(value).toBe("try 3");
  });

  it("throws the last failure at the timeout", async () => {
    let n = 0;
    const error = await eventually(
      () => {
        throw new Error(`failure ${++n}`);
      },
      { timeout: 30, interval: 5 },
    ).catch((e: Error) => e);
    expect(n).toBeGreaterThan(1);
    expect(error).toEqual(new Error(`failure ${n}`));
    await expect(eventually(() => false, { timeout: 10, interval: 5 })).rejects.toThrow(/still false after 10 ms/);
  });
});
