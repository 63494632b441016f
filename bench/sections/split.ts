// The split's cost per event (validation as the api does it, the split as the worker does it), in process.
import { adversarialBlock, worstAllowedBlock } from '../../libs/money/src/testing/adversarial.js';
import { refuseMs, splitMs } from '../split-cost.js';
import { benchRecipients, type BenchSection, ratio } from '../support.js';

export const split: BenchSection = {
  name: 'split',
  async run(ctx) {
    const plain = splitMs({ type: 'lightning', method: 'keysend', recipients: benchRecipients });
    const worst = splitMs(worstAllowedBlock(), 50);
    ctx.report({
      what: 'split cost: worst block the limits allow (300 recipients, 100 time splits, 6-decimal splits), per event',
      figure: `split ${worst.splitMs.toFixed(2)} ms + validation ${worst.parseMs.toFixed(2)} ms`,
      anchor: `4 recipients: split ${plain.splitMs.toFixed(3)} ms`,
      ratio: ratio(worst.splitMs, plain.splitMs),
      target: 'split < 5 ms',
      met: worst.splitMs < 5,
    });
    const refused = refuseMs(adversarialBlock('huge', 10));
    ctx.report({
      what: "split cost: refusing issue 20's attack (1e300 splits, 100 recipients x 10 time splits)",
      figure: `${refused.toFixed(1)} ms`,
      anchor: '-',
      ratio: null,
      target: '< 100 ms',
      met: refused < 100,
    });
  },
};
