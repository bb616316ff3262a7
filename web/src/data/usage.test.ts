import { describe, expect, it } from "vitest";
import { quotaShare, rateLimitText, rateUseText } from "./usage";

describe("storage quota share", () => {
  it("shows used of quota, with a warning near it and full past it", () => {
    expect(quotaShare(512, 1024)).toEqual({ fraction: 0.5, label: "512 B of 1.0 KiB (50 %)", level: "ok" });
    expect(quotaShare(950, 1000).level).toBe("warn");
    expect(quotaShare(1200, 1000)).toMatchObject({ fraction: 1, level: "full" });
    expect(quotaShare(10, 100000).label).toBe("10 B of 97.7 KiB (0.0 %)");
  });

  it("handles no quota and a zero quota", () => {
    expect(quotaShare(2048, null)).toEqual({ fraction: null, label: "2.0 KiB (no quota)", level: "ok" });
    expect(quotaShare(0, 0)).toMatchObject({ fraction: 0, level: "ok" });
    expect(quotaShare(5, 0)).toMatchObject({ fraction: 1, level: "full", label: "5 B of 0 B" });
  });
});

describe("rate limit", () => {
  it("says the limit, where it comes from, and what is left", () => {
    const r = { requests_per_minute: 1000, burst: 200, source: "server default", unlimited: false, remaining: 195, reset_s: 1 };
    expect(rateLimitText(r)).toBe("1,000 requests per minute, burst 200 (the server's default)");
    expect(rateUseText(r)).toBe("195 of 200 requests available now; all again in 1 s");
    expect(rateLimitText({ ...r, source: "workspace lab" })).toMatch(/\(from workspace lab\)$/);
    expect(rateLimitText({ ...r, source: "user" })).toMatch(/\(set for you\)$/);
    expect(rateUseText({ ...r, remaining: 200, reset_s: 0 })).toBe("200 of 200 requests available now");
  });

  it("shows an unlimited user as such, with no use figures", () => {
    const r = { requests_per_minute: 0, burst: 0, source: "server admin", unlimited: true };
    expect(rateLimitText(r)).toBe("unlimited (server admin)");
    expect(rateUseText(r)).toBeNull();
  });
});
