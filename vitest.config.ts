import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "web/**/*.test.ts", "test/helpers/**/*.test.ts"],
          environment: "node",
          // Fast unit tests first, then the integration tests (which run two files at a time).
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/helpers/build-worker.ts"],
          testTimeout: 20_000,
          hookTimeout: 30_000,
          // Each file starts its own workerd; two at a time fit the 2-core machines.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
