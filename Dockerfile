# One image for every process of the product (keys, usage, the example);
# docker-compose.yml picks the command per service.
FROM oven/bun:1.4.5 AS deps
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json bun.lock ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/runtime/package.json packages/runtime/
COPY packages/guard/package.json packages/guard/
COPY services/keys/package.json services/keys/
COPY services/usage/package.json services/usage/
COPY examples/loans-api/package.json examples/loans-api/
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/packages ./packages
COPY --from=deps /app/services ./services
COPY --from=deps /app/examples ./examples
COPY . .
# The official image's unprivileged user; nothing here needs root.
USER bun
EXPOSE 3000 3001 3002
CMD ["bun", "services/keys/src/main.ts"]
