// The payment service's process: node dist/payment/main.js (with ORDER_SAGA_CONFIG set).
import { main } from '../service.js';
import { startPaymentService } from './service.js';

main('payment', startPaymentService);
