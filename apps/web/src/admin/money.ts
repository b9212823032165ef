/** Money in the console: integer micro-credits from the server, shown in credits (1 credit = 1,000,000). */
const MICROS = 1_000_000;

const two = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const four = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 4 });

/** "1,234.50", "−0.75": a table cell or a tile, where the unit is said once around it. */
export function money(micros: number): string {
  return two.format(micros / MICROS).replace('-', '−');
}

/** Per-minute amounts are small: up to four decimals ("0.0417"). */
export function moneyPerMinute(micros: number): string {
  return four.format(micros / MICROS).replace('-', '−');
}

/** "2.50 credits", "1.00 credit" for sentences. */
export function credits(micros: number): string {
  const s = money(micros);
  return `${s} ${s === '1.00' ? 'credit' : 'credits'}`;
}
