// Placeholder page of the predictions panel (replaced by the panel's implementation).
import '../common/base.css';
import { installErrorReporting, post } from '../common/host.js';

installErrorReporting('predictions');
document.getElementById('app')!.textContent = 'BERT Lab predictions';
post({ type: 'ready' });
