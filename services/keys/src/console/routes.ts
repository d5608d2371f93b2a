import { Elysia } from "elysia";
import { AppError } from "@riskinmind/contracts";
import { errFields, type Logger } from "@riskinmind/runtime";
import { ASSETS_PREFIX, buildConsole, type ConsoleBundle } from "./build";

/**
 * The console page's policy: its own files only, nothing inline (no script,
 * no style attribute), no other origin; stricter than the /docs one, which
 * needs a script hash and inline styles for Scalar.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface ConsoleDeps {
  log: Logger;
  /** How the bundle is made (tests may pass a prebuilt one); built on the first /console request, once. */
  build?: () => Promise<ConsoleBundle>;
}

/**
 * GET /console (the page) and GET /console/assets/<name>-<hash>.<ext>. The
 * build runs on first use, not at start: a keys replica nobody opens the
 * console on never pays for it. The page itself is not cached (it names the
 * current hashes); the hashed assets are cached for a year.
 */
export function consoleRoutes({ log, build = buildConsole }: ConsoleDeps) {
  let bundle: Promise<ConsoleBundle> | undefined;
  const ready = () =>
    (bundle ??= build().catch((err) => {
      bundle = undefined; // a later request tries again
      log.error({ ...errFields(err) }, "console build failed");
      throw new AppError("INTERNAL", "Internal error.");
    }));
  const pageRoute = async ({ set }: { set: { headers: Record<string, string | number> } }) => {
    const b = await ready();
    set.headers["content-type"] = "text/html; charset=utf-8";
    set.headers["content-security-policy"] = CONSOLE_CSP;
    return b.html;
  };
  return new Elysia({ name: "riskinmind/console" })
    .get("/console", pageRoute, { detail: { hide: true } })
    .get("/console/", pageRoute, { detail: { hide: true } })
    .get(
      `${ASSETS_PREFIX}*`,
      async ({ request, set }) => {
        const b = await ready();
        const asset = b.assets.get(new URL(request.url, "http://x").pathname);
        if (!asset) throw new AppError("NOT_FOUND", "No such console asset.");
        set.headers["content-type"] = asset.type;
        set.headers["cache-control"] = "public, max-age=31536000, immutable";
        set.headers.vary = "accept-encoding";
        if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
          set.headers["content-encoding"] = "gzip";
          return asset.gzip;
        }
        return asset.body;
      },
      { detail: { hide: true } },
    );
}
