import { t } from "elysia";

/** The toy prediction request; unknown fields are refused (the app runs with normalize: false). */
export const PredictBody = t.Object(
  {
    amount: t.Number({ exclusiveMinimum: 0, maximum: 1e12 }),
    termMonths: t.Integer({ minimum: 1, maximum: 480 }),
    annualIncome: t.Number({ exclusiveMinimum: 0, maximum: 1e12 }),
    creditScore: t.Integer({ minimum: 300, maximum: 850 }),
  },
  { additionalProperties: false },
);
export type PredictBody = typeof PredictBody.static;

export type Decision = "APPROVE" | "REVIEW" | "DECLINE";

/**
 * A toy risk score in 0..1 (higher is riskier): a blend of the credit score,
 * the yearly repayment burden against income, and the term. Illustrative only;
 * it exists so the example has something to compute.
 */
export function predict(b: PredictBody): { riskScore: number; decision: Decision } {
  const credit = (850 - b.creditScore) / 550; // 0 (best) .. 1 (worst)
  const yearlyPayment = (b.amount / b.termMonths) * 12;
  const burden = Math.min(1, yearlyPayment / b.annualIncome);
  const term = b.termMonths / 480;
  const raw = 0.55 * credit + 0.35 * burden + 0.1 * term;
  const riskScore = Math.round(Math.min(1, Math.max(0, raw)) * 10_000) / 10_000;
  const decision: Decision = riskScore < 0.3 ? "APPROVE" : riskScore < 0.6 ? "REVIEW" : "DECLINE";
  return { riskScore, decision };
}

/**
 * The answer a test key (`sk_test_`) gets: no model runs; the score is a hash
 * of the request, so the same input always gives the same answer and a
 * customer can write tests against it, and `sandbox: true` says it means nothing.
 */
export function sandboxPredict(b: PredictBody): { riskScore: number; decision: Decision; sandbox: true } {
  const h = Bun.hash.crc32(`${b.amount}|${b.termMonths}|${b.annualIncome}|${b.creditScore}`);
  const riskScore = (h % 10_000) / 10_000;
  const decision: Decision = riskScore < 0.3 ? "APPROVE" : riskScore < 0.6 ? "REVIEW" : "DECLINE";
  return { riskScore, decision, sandbox: true };
}
