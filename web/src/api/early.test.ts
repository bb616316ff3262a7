import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runsPageUrl } from "../data/runsQuery";
import { parseView } from "../data/viewState";
import { EARLY_MAX_AGE_MS, startEarly, takeEarly } from "./early";

const ok = () => new Response("{}", { status: 200 });

describe("early requests (index.html → the app)", () => {
  let fetchMock: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    fetchMock = vi.fn(async () => ok());
    vi.stubGlobal("window", globalThis);
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => {
    delete (globalThis as { __nereidEarly?: unknown }).__nereidEarly;
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("hands a started request to the first taker of the same URL, once", async () => {
    startEarly("/api/v1/projects/a/b/runs?limit=100", { Authorization: "Bearer t" });
    expect(fetchMock).toHaveBeenCalledWith("/api/v1/projects/a/b/runs?limit=100", { headers: { Authorization: "Bearer t" } });
    expect(await takeEarly("/api/v1/projects/a/b/runs?limit=50")).toBeUndefined();
    const r = await takeEarly("/api/v1/projects/a/b/runs?limit=100");
    expect(r?.status).toBe(200);
    expect(await takeEarly("/api/v1/projects/a/b/runs?limit=100")).toBeUndefined();
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("hands out only successful answers, so the app reports failures itself", async () => {
    fetchMock.mockImplementationOnce(async () => new Response("{}", { status: 401 }));
    fetchMock.mockImplementationOnce(async () => {
      throw new TypeError("network down");
    });
    startEarly("/x", {});
    startEarly("/y", {});
    expect(await takeEarly("/x")).toBeUndefined();
    expect(await takeEarly("/y")).toBeUndefined();
  });

  it("does not hand out an answer older than its limit", async () => {
    const now = vi.spyOn(performance, "now");
    now.mockReturnValue(1000);
    startEarly("/x", {});
    now.mockReturnValue(1000 + EARLY_MAX_AGE_MS + 1);
    expect(await takeEarly("/x")).toBeUndefined();
    now.mockRestore();
  });

  it("is nothing when no early request was started", async () => {
    expect(await takeEarly("/x")).toBeUndefined();
  });
});

describe("runsPageUrl", () => {
  it("is the same URL for the same view, whatever order the link's query had", () => {
    const a = runsPageUrl("ws 1", "p", parseView("?cols=params/lr,x&sort=params/lr&order=asc&filter=a%20%3C%201"), null);
    const b = runsPageUrl("ws 1", "p", parseView("?filter=a%20%3C%201&order=asc&sort=params/lr&cols=params/lr,x"), null);
    expect(a).toBe(b);
    expect(a).toBe("/api/v1/projects/ws%201/p/runs?filter=a+%3C+1&sort=params%2Flr&order=asc&columns=params%2Flr%2Cx&limit=100");
  });

  it("asks later pages by cursor, or by offset without one, and the trash with trashed=true", () => {
    const v = parseView("?trash=1");
    expect(runsPageUrl("w", "p", v, { start: 100, limit: 500, cursor: "c1" })).toBe(
      "/api/v1/projects/w/p/runs?sort=sys%2Fcreation_time&order=desc&limit=500&cursor=c1&trashed=true",
    );
    expect(runsPageUrl("w", "p", v, { start: 5000, limit: 500, cursor: null })).toBe(
      "/api/v1/projects/w/p/runs?sort=sys%2Fcreation_time&order=desc&limit=500&offset=5000&trashed=true",
    );
  });
});
